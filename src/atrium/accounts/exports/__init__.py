"""Statement exports: CSV (`csv_export`) and PDF (`pdf_export`), both rendered from `schemas.Statement`."""

from atrium.accounts.exports.csv_export import csv_filename, statement_csv
from atrium.accounts.exports.pdf_export import pdf_filename, statement_pdf

__all__ = ["csv_filename", "pdf_filename", "statement_csv", "statement_pdf"]
