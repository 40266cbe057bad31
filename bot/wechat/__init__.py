"""WeChat Official Account (residents, members) and WeCom group robots (grid groups)."""
