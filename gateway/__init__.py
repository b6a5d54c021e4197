"""Customs intelligence exchange gateway (Japan Customs IIO, WCO RILO Asia/Pacific)."""

__version__ = "0.1.0"
