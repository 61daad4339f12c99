"""From a request (tree, series, config fragments) to a built kernel.

  request          the one way in: KernelRequest -> build_kernel(); last_build()
  source           the pristine tree: Debian's tarball or --kernel-tree, in the cache
  git              every git command, the cache repositories' blobs
  series           a series loaded: patches/<series>/<rev>/ or an mbox
  apply            git am in a scratch worktree; the build tree moved there
  kconfig          fragments merged, every wanted option verified after olddefconfig
  kconfig_explain  why a wanted option did not survive, from the Kconfig files
  build            configure and build out of tree; ccache through kcc, the compiler wrapper
  identity         the build identity: embedded in the image, read back, checked
  patchcheck       checkpatch, W=1, kernel-doc and the UAPI header alone, per patch
  prefixes         does every prefix of a series build (python3 -m vm.prefixes)
  derive           a revision with one patch edited (python3 -m vm.derive)
"""
