"""Run folders and what describes them: the folder layout, manifest.json, the ledger of derived files, the target
files and the renderers they name. In: data/<target>/<run>/ and targets/<name>.yaml. Out: paths, validated
targets and a decision of what is out of date."""
