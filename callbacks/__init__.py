"""callbacks: outbound calls (回访, queue and missed-call callbacks, ratings) on one engine."""
