"""Portal: no tables; it reads other apps."""
