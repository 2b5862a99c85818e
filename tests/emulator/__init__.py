"""Tests of the Document Server emulator (docs_emulator)."""
