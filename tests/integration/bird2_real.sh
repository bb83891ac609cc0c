#!/bin/sh
# SPDX-License-Identifier: ISC
# Real BIRD 2 (Debian bird2) through the client; see bird_real_common.sh.
BIRD_VERSION=2
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/bird_real_common.sh"
