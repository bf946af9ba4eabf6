"""The one compiled part: CP949 → UTF-8 (src/dpghub/lake/_cp949.c). Optional — without a C
compiler the hub installs anyway and transcodes with iconv or Python's codec instead."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("dpghub.lake._cp949", ["src/dpghub/lake/_cp949.c"],
                             optional=True)])
