"""Tokenisation: text to token ids, and byte-pair encoding learned live."""



