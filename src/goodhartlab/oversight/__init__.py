"""Scalable-oversight schemes: amplification (HCH, imitative, approval-based) and debate."""
