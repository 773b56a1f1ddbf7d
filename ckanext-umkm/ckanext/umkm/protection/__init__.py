"""What an attacker from outside meets (OWASP ASVS 4.0.3 Level 2): abuse
limits (``limits``), security headers (``headers``) and readable 4xx answers
instead of server errors (``errors``). The egress guard is ``egress``."""
