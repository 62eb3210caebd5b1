"""Payments: charges and refunds through a Stripe-style simulator, once per saga."""
