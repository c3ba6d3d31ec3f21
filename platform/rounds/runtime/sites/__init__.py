"""Sites staff visit (retailers above all), of a site kind from the definitions."""
