#!/bin/sh
# Says what this toolbox image holds.
echo "debian-image toolbox: $(dpkg-query -W -f '.' | wc -c) packages"
for tool in curl git jq python3 rsync; do
  printf '  %s: %s\n' "$tool" "$(command -v "$tool")"
done
