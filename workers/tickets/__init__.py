"""Tickets: events, ticket tiers and their capacity, seat holds, issued tickets."""
