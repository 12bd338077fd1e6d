#!/usr/bin/env bash
# Make sure the TeX tools that `make pdf` needs are installed, and print the
# path of xelatex.
#
#   bash scripts/install_tex.sh          # find them, or apt-get install them
#   bash scripts/install_tex.sh --find   # only look; exit 1 if something is missing
#
# The PDF edition is built by Jupyter Book 1's LaTeX builder with Sphinx's
# standard class, XeLaTeX and the DejaVu fonts (see the latex: section and
# latex_elements in _config.yml). On Debian or Ubuntu the packages below
# (about 350 MB installed) are everything it needs; Jupyter Book's own LaTeX
# class would also need texlive-fonts-extra (500 MB more) for bbm.sty.
# Nothing is downloaded from anywhere but the system's package archive.
set -euo pipefail

PACKAGES=(
  latexmk                     # drives xelatex and bibtex/makeindex until the PDF is stable
  texlive-xetex               # xelatex, fontspec, polyglossia
  texlive-latex-recommended   # the Sphinx class's basic packages
  texlive-latex-extra         # fncychap, tabulary, capt-of, needspace, ...
  texlive-fonts-recommended
  tex-gyre
  fonts-dejavu-core           # the fonts named in _config.yml's latex_elements
)

have_all() {
  command -v xelatex >/dev/null 2>&1 || return 1
  command -v latexmk >/dev/null 2>&1 || return 1
  command -v kpsewhich >/dev/null 2>&1 || return 1
  local sty
  for sty in fncychap.sty tabulary.sty capt-of.sty needspace.sty polyglossia.sty fontspec.sty; do
    [ -n "$(kpsewhich "$sty")" ] || return 1
  done
  [ -n "$(fc-list "DejaVu Sans Mono" 2>/dev/null)" ] || return 1
}

if have_all; then command -v xelatex; exit 0; fi
if [ "${1:-}" = "--find" ]; then
  echo "install_tex: xelatex, latexmk, a LaTeX package or the DejaVu fonts are missing" >&2
  exit 1
fi

# shellcheck source=scripts/apt_install.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"
apt_install install_tex "${PACKAGES[@]}" || exit 1

if have_all; then command -v xelatex; exit 0; fi
echo "install_tex: the packages were installed but a tool is still missing" >&2
exit 1
