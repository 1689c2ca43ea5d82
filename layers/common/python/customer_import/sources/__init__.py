"""The files an import reads (design §5.1, §5.8): CSV and XLSX, as Techman writes them or as
an organisation's profile maps them onto the canonical columns."""
