#!/usr/bin/env bash
# Debian packages the project needs: CJK TrueType fonts for the sample generator
# (AR PL UMing/UKai: 明體/楷體 with Traditional glyphs; WenQuanYi Zen Hei: 黑體);
# Tesseract with its Traditional Chinese model, one of the OCR engines (pipeline/ocr);
# Chromium, the headless browser tests/web/test_browser.py drives (no browser is downloaded at run time).
set -euo pipefail
needed=(fonts-arphic-uming fonts-arphic-ukai fonts-wqy-zenhei tesseract-ocr tesseract-ocr-chi-tra chromium)
missing=()
for pkg in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
