#!/bin/bash
# median cpu per call for each label
N=${N:-10000} npx tsx insert.mts | awk '{a[$1]=a[$1]" "$4} END {for (k in a) print k, a[k]}'
