#!/usr/bin/env python3
"""Fails when Swift code would not build on every platform the manifest names, or when the
library would hand its own crypto module to hosts.

Three rules, checked on every tracked Swift file:

1. A platform module (FoundationEssentials, Glibc, Musl, Darwin, WinSDK, Android) is imported
   only inside an `#if` block. Darwin has no FoundationEssentials and Linux has no Darwin, so an
   unconditional import of either breaks the other platform's build.
2. In the library's sources (`Sources/`), platform modules are imported, and C library
   functions called, only in the files that own the platform seam (PLATFORM_FILES below).
   Everything else goes through those files, so a port to a new platform reads a handful of
   files, not the whole library.
3. The library's products never re-export `UMKCrypto` (no `public import`/`@_exported import`
   of it in `Sources/`): it has no API promise, and a host that also uses swift-crypto must
   never meet a second `SHA256`.

We cannot compile for Apple platforms on Linux CI, so this lint and a careful read of each
`#if os`/`canImport` branch in PLATFORM_FILES are the check that those builds stay possible.

Usage: Scripts/lint-platform.py   (exits 1 and lists every finding)
"""

import re
import subprocess
import sys

PLATFORM_MODULES = ("FoundationEssentials", "Glibc", "Musl", "Darwin", "WinSDK", "Android")

# The files of the library that may import a C library module and call it directly.
PLATFORM_FILES = {
    "Sources/UserManagementKit/Support/Platform.swift",
    "Sources/UserManagementKit/Storage/File/StoreFileSystem.swift",
}

# C library functions the library uses or might reach for. A call is a name followed by `(`
# that is not a member access (`.open(`) or a declaration (`func open(`).
LIBC_FUNCTIONS = (
    "open openat close read write pread pwrite fsync fdatasync fcntl flock mmap munmap "
    "ftruncate fstat stat lstat rename renameat unlink unlinkat mkdir mkdirat opendir readdir "
    "closedir getrandom arc4random_buf getentropy sysconf strerror lseek kill getpid getuid "
    "geteuid usleep nanosleep posix_fallocate dup fchmod fchown umask sched_yield "
    "clock_gettime memset_s explicit_bzero"
).split() + ["pthread_[a-z_]+"]

IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public |package |internal )?import\s+(\w+)")
CALL = re.compile(r"(?<![.\w])(" + "|".join(LIBC_FUNCTIONS) + r")\(")
DECLARATION = re.compile(r"\bfunc\s+$")


def strip_comments_and_strings(line):
    line = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
    return line.split("//", 1)[0]


def check(path, text):
    findings = []
    depth = 0
    in_library = path.startswith("Sources/") and path.endswith(".swift")
    owns_platform = path in PLATFORM_FILES
    in_block_comment = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw
        if in_block_comment:
            if "*/" not in line:
                continue
            line = line.split("*/", 1)[1]
            in_block_comment = False
        if "/*" in line and "*/" not in line.split("/*", 1)[1]:
            line = line.split("/*", 1)[0]
            in_block_comment = True
        stripped = line.strip()
        if stripped.startswith("#if"):
            depth += 1
        elif stripped.startswith("#endif"):
            depth -= 1
        if in_library and re.match(r"^\s*(@_exported\s+import|public\s+import)\s+UMKCrypto\b", line):
            findings.append(f"{path}:{number}: UMKCrypto re-exported to hosts")
        match = IMPORT.match(line)
        if match and match.group(1) in PLATFORM_MODULES:
            module = match.group(1)
            if depth == 0:
                findings.append(f"{path}:{number}: `import {module}` outside `#if canImport({module})`")
            if in_library and not owns_platform and module != "FoundationEssentials":
                findings.append(f"{path}:{number}: `import {module}` outside the platform files")
            continue
        if in_library and not owns_platform:
            code = strip_comments_and_strings(line)
            for call in CALL.finditer(code):
                if DECLARATION.search(code[: call.start()]):
                    continue
                findings.append(
                    f"{path}:{number}: C library call `{call.group(1)}(` outside the platform files"
                )
    return findings


def main():
    files = subprocess.run(
        ["git", "ls-files", "*.swift"], check=True, capture_output=True, text=True
    ).stdout.split()
    findings = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            findings += check(path, handle.read())
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} finding(s); see Scripts/lint-platform.py for the rules.")
        return 1
    print(f"Platform lint: {len(files)} Swift files, no findings.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
