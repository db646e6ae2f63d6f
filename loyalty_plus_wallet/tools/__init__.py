"""Wallet protocols kept free of the ORM so that they can be read (and tested) on their own."""
