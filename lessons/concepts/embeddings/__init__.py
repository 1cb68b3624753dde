"""Embeddings: how a token id becomes a vector, and how the table organises itself."""



