"""Pre-training, then fine-tuning: four ways to turn a document completer into a classifier."""
