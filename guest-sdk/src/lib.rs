//! skiff-guest
