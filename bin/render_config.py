"""Render config/ckan.ini.template into an ini file from NAME=VALUE pairs.

Usage: python bin/render_config.py TEMPLATE OUTPUT ENVFILE
Every ${NAME} in the template must have a value: a missing one is an error,
so a config is never written half-filled.
"""

import string
import sys


def main() -> None:
    template, output, envfile = sys.argv[1:4]
    values = {}
    with open(envfile, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                values[key] = value
    with open(template, encoding="utf-8") as f:
        text = string.Template(f.read()).substitute(values)
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    import os

    os.chmod(tmp, 0o600)
    os.replace(tmp, output)


if __name__ == "__main__":
    main()
