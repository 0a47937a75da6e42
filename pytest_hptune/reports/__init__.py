"""Reports: consumers of search records (terminal, JSON, JUnit, Markdown, HTML, plots, baseline file)."""
