"""Org units: the company's tree (city company → station / market department → area)."""
