"""Orchestration: the saga record, the purchase canvas and its compensation."""
