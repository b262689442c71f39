# bash completion for postino(8).
#
# Nothing here lists postino's commands or options: they come from the
# program itself ("postino help --commands", "help --options COMMAND",
# "help --args COMMAND"), so completion follows the command table of the
# postino being completed.  Domain, mailbox, alias and list names come
# from the database, by the listing commands, when an argument or option
# value names one; "POSTINO_COMPLETE_NO_DB=1" turns that off.

# _postino_names KIND: the names the database holds for KIND.
_postino_names()
{
	local -a cmd
	[[ -n ${POSTINO_COMPLETE_NO_DB:-} ]] && return
	case $1 in
	domain) cmd=(domain list) ;;
	alias-domain) cmd=(domain alias list --all) ;;
	mailbox) cmd=(user list --all) ;;
	alias) cmd=(alias list) ;;
	list) cmd=(list ls) ;;
	*) return ;;
	esac
	# The first column of the table, without its header; "(no rows)" is
	# a single line.
	if command -v timeout >/dev/null 2>&1; then
		timeout 3 "$_postino_prog" "${_postino_global[@]}" --no-color \
		    "${cmd[@]}" 2>/dev/null
	else
		"$_postino_prog" "${_postino_global[@]}" --no-color \
		    "${cmd[@]}" 2>/dev/null
	fi | awk 'NR > 1 && NF { print $1 }'
}

# _postino_value META GROUP CUR: complete a value named META (a metavar of
# "help --options" or a word of "help --args") of a command in GROUP.
_postino_value()
{
	local meta=${1%%|*} group=$2 cur=$3 d
	local -a words=()
	case $meta in
	FILE|PATH)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	DIR)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return
		;;
	DOMAIN) mapfile -t words < <(_postino_names domain) ;;
	ALIAS-DOMAIN) mapfile -t words < <(_postino_names alias-domain) ;;
	LIST) mapfile -t words < <(_postino_names list) ;;
	OLD) mapfile -t words < <(_postino_names mailbox) ;;
	ADDRESS|NEW|DEST*)
		if [[ $meta == ADDRESS && $group == user ]]; then
			mapfile -t words < <(_postino_names mailbox)
		elif [[ $meta == ADDRESS && $group == alias ]]; then
			mapfile -t words < <(_postino_names alias)
		fi
		# A new address: complete its domain after the "@".
		if [[ $cur == *@* ]]; then
			for d in $(_postino_names domain); do
				words+=("${cur%%@*}@$d")
			done
		fi
		;;
	ENGINE) words=(sqlite mysql pgsql) ;;
	FORMAT) words=(jsonl csv) ;;
	SCHEME) words=(BLF-CRYPT SHA512-CRYPT ARGON2I ARGON2ID MD5-CRYPT) ;;
	B) words=(local noauth hybrid) ;;
	HOW) words=(sql podop) ;;
	VERSION) words=(2.3 2.4) ;;
	*) return ;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "${words[*]}" -- "$cur")
}

_postino()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= w cmd= line next opt meta
	local i n=0 skip=0 npos=0
	local -a words=() opts=() args=() cands=()
	local _postino_prog=${COMP_WORDS[0]}
	local -a _postino_global=()

	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

	# The words before the cursor: the global -c FILE is kept for the
	# database listings, other options are left out.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((skip)); then
			skip=0
			continue
		fi
		case $w in
		-c|--config)
			_postino_global=(-c "${COMP_WORDS[i + 1]}")
			skip=1
			continue
			;;
		--config=*)
			_postino_global=("$w")
			continue
			;;
		esac
		if [[ -n $cmd ]]; then
			# Past the command: skip option values, count arguments.
			if [[ $w == -* ]]; then
				for opt in "${opts[@]}"; do
					[[ ${opt%% *} == "$w" && $opt == *" "* ]] && skip=1
				done
			else
				npos=$((npos + 1))
			fi
			continue
		fi
		[[ $w == -* ]] && continue
		words+=("$w")
		# A complete command name?
		while IFS= read -r line; do
			if [[ $line == "${words[*]}" ]]; then
				cmd=$line
				mapfile -t opts < <("$_postino_prog" help --options $cmd 2>/dev/null)
				read -r -a args < <("$_postino_prog" help --args $cmd 2>/dev/null)
			fi
		done < <("$_postino_prog" help --commands 2>/dev/null)
	done

	if [[ -z $cmd ]]; then
		case $prev in
		-c|--config)
			_postino_value FILE "" "$cur"
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			mapfile -t cands < <("$_postino_prog" help --options 2>/dev/null)
			mapfile -t COMPREPLY < <(compgen -W "${cands[*]%% *}" -- "$cur")
			return
		fi
		# The next word of the commands that start with the words so far.
		n=${#words[@]}
		while IFS= read -r line; do
			read -r -a w <<<"$line"
			[[ "${w[*]:0:n}" == "${words[*]}" ]] || continue
			((${#w[@]} > n)) && [[ " ${cands[*]} " != *" ${w[n]} "* ]] &&
			    cands+=("${w[n]}")
		done < <("$_postino_prog" help --commands 2>/dev/null)
		mapfile -t COMPREPLY < <(compgen -W "${cands[*]}" -- "$cur")
		return
	fi

	# The value of an option?
	if [[ $prev == -* ]]; then
		for opt in "${opts[@]}"; do
			if [[ ${opt%% *} == "$prev" && $opt == *" "* ]]; then
				_postino_value "${opt#* }" "${cmd%% *}" "$cur"
				return
			fi
		done
		case $prev in
		-c|--config)
			_postino_value FILE "" "$cur"
			return
			;;
		esac
	fi
	if [[ $cur == -* ]]; then
		mapfile -t cands < <("$_postino_prog" help --options 2>/dev/null)
		mapfile -t COMPREPLY < <(compgen -W "${opts[*]%% *} ${cands[*]%% *}" -- "$cur")
		return
	fi
	# The argument at this position, from the usage ("OLD NEW",
	# "ALIAS-DOMAIN --target DOMAIN": options and their values left out).
	local -a pos=()
	for ((i = 0; i < ${#args[@]}; i++)); do
		case ${args[i]} in
		--*) i=$((i + 1)) ;;
		*) pos+=("${args[i]//[\[\]]/}") ;;
		esac
	done
	if [[ $cmd == help ]]; then
		_postino_help_words "$cur"
		return
	fi
	((npos < ${#pos[@]})) && _postino_value "${pos[npos]}" "${cmd%% *}" "$cur"
}

# "postino help WORDS": complete command words, as for the command itself.
_postino_help_words()
{
	local cur=$1 line i n=0
	local -a done_words=() w cands=()
	for ((i = 2; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == -* ]] || done_words+=("${COMP_WORDS[i]}")
	done
	n=${#done_words[@]}
	while IFS= read -r line; do
		read -r -a w <<<"$line"
		[[ "${w[*]:0:n}" == "${done_words[*]}" ]] || continue
		((${#w[@]} > n)) && [[ " ${cands[*]} " != *" ${w[n]} "* ]] &&
		    cands+=("${w[n]}")
	done < <("$_postino_prog" help --commands 2>/dev/null)
	mapfile -t COMPREPLY < <(compgen -W "${cands[*]}" -- "$cur")
}

complete -F _postino postino
