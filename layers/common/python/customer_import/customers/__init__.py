"""Customers: the `Customer` aggregate (with its addresses and vehicles), identity within an
account, versions, the recycle bin, and the repository port that stores them."""
