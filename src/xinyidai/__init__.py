"""XYD (信易贷): credit-information sharing and SME financing platform."""

__version__ = "0.1.0"
