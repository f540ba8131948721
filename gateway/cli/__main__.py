"""``python -m gateway.cli``: the ``gateway`` command where the project itself is not
installed, as on cloud.gov, whose buildpack installs only the locked ``requirements.txt``
and runs the code from the pushed directory."""

from gateway.cli import main

main(prog_name="gateway")
