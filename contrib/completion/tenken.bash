# bash completion for tenken(1). The commands and each command's options are
# read from tenken's own --help, so they cannot drift from the binary.
# Installed as share/bash-completion/completions/tenken.

_tenken_commands()
{
    "$1" --help 2>/dev/null | sed -n '/^commands:/,/^$/{s/^  \([a-z][a-z-]*\) .*/\1/p}'
}

_tenken_options()
{
    "$1" "$2" --help 2>/dev/null | grep -oE -- '(^|[[ ,])--[a-z][a-z-]*' | grep -oE -- '--[a-z][a-z-]*' | sort -u
}

_tenken()
{
    local cur prev bin cmd
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    bin=${COMP_WORDS[0]}
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "$(_tenken_commands "$bin") help" -- "$cur"))
        return
    fi
    cmd=${COMP_WORDS[1]}
    case $prev in
        --config|-c|--tailoring|-t|--waivers|--attestation|--ca-file)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --out|-o|--state|--inventory|-i)
            COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --lang)
            COMPREPLY=($(compgen -W "ja en" -- "$cur")); return ;;
        --checklist|-l)
            COMPREPLY=($(compgen -W "$("$bin" checklist list --format json 2>/dev/null | grep -oE '"id": *"[^"]+"' | sed 's/.*"\([^"]*\)"$/\1/')" -- "$cur")); return ;;
        --format|-f)
            COMPREPLY=($(compgen -W "json html csv sarif junit text" -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_tenken_options "$bin" "$cmd")" -- "$cur"))
        return
    fi
    case $cmd in
        checklist) [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=($(compgen -W "list show" -- "$cur")) ;;
        key)       [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=($(compgen -W "show rotate" -- "$cur")) ;;
        feed)      [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=($(compgen -W "update" -- "$cur")) ;;
        verify)    COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}
complete -F _tenken tenken
