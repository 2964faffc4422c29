"""A one-function C extension: building it proves the compiler and Python.h work."""

from setuptools import Extension, setup

setup(
    name="provision-cext-probe",
    version="1.0",
    ext_modules=[Extension("provision_cext_probe", ["provision_cext_probe.c"])],
)
