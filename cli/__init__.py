"""The jixiao command line: a thin typer layer over the workbook library."""
