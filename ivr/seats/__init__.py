"""Browser seats (座席): the WebRTC phone in the console and its Asterisk side."""
