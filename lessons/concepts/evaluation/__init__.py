"""How to measure a model: confusion matrix, precision/recall/F1, perplexity, top-k, BLEU."""
