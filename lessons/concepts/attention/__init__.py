"""Self-attention: from the source document's simplest form to the trained model's heads."""



