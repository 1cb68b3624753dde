"""Softmax and cross-entropy: from scores to probabilities, and the loss the model trains on."""



