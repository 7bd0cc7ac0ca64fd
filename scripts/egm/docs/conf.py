# SPDX-License-Identifier: GPL-2.0
# Sphinx configuration for building egm-core's pages alone (scripts/egm/
# docs.sh), with the kernel tree's own kernel-doc extension, as
# "make htmldocs" would render them.  docs.sh passes the kernel tree and
# the repository in the environment.
import os
import re
import sys

ksrc = os.environ['EGM_KSRC']
sys.path.insert(0, os.path.join(ksrc, 'Documentation', 'sphinx'))

project = 'egm-core'
extensions = ['kerneldoc', 'rstFlatTable']
kerneldoc_bin = os.path.join(ksrc, 'scripts', 'kernel-doc')
# The ".. kernel-doc::" paths name the repository's files.
kerneldoc_srctree = os.environ['EGM_REPO']
master_doc = 'index'
exclude_patterns = []
highlight_language = 'none'

# The kernel's macros that Sphinx's C parser must skip (__user, __printf,
# ...): the list the kernel's own conf.py keeps, read from it.
with open(os.path.join(ksrc, 'Documentation', 'conf.py')) as f:
    m = re.search(r'c_id_attributes = \[(.*?)\]', f.read(), re.S)
c_id_attributes = re.findall(r'"([^"]+)"', m.group(1)) if m else []
