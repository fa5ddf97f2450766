"""The public credit information catalogue (公共信用信息基础目录): categories and their schemas."""
