"""The engineers' workbench around `lookout replay`: summaries, contact sheets, annotated video,
rule-set comparison, labels files and scoring. See docs/workbench.md."""
