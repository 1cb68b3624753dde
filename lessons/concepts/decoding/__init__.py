"""Generating text: every decoding strategy step by step, measured, and checked for copying."""
