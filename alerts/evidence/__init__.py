"""Alert evidence beyond the snapshot: short MP4 clips, their stores (local, S3) and retention."""
