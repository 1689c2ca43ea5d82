"""Customer import: the domain (plain Python) and its AWS adapters (`customer_import.adapters`)."""
