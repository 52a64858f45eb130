"""Call recording with retention and audited playback, and quality inspection (质检): docs/recordings.md."""
