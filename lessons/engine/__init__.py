"""The engine every lesson stands on: settings, the model, tokenizers, text, checkpoints,
decoding and training. It knows no lesson and no UI."""



