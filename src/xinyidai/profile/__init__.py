"""The panoramic profile of one enterprise and its credit report as PDF."""
