"""capplan: capacity forecasting and staffing planner for content-moderation operations."""

__version__ = "0.1.0"
