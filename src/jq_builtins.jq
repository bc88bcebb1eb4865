# jq 1.7 builtins that jaq does not define, and two of jaq's that behave unlike jq's.
# Compiled after jaq's own definitions, so these win. Only those a filter reaches are
# compiled (src/jq.rs).

# jaq's native `env` stops on a variable that is not UTF-8; `$ENV` is built lossily.
def env: $ENV;

# jq's `join`: null joins as "", numbers and booleans as their JSON text.
def join($sep):
  def piece:
    if type == "string" then .
    elif . == null then ""
    elif type == "number" or type == "boolean" then tojson
    else error("cannot join \(type) (\(tojson))")
    end;
  reduce (.[] | piece) as $p (null; if . == null then $p else . + $sep + $p end) // "";

def have_literal_numbers: true;
def have_decnum: false;

def toarray: if type == "array" then . else [.] end;
def trimstr($s): ltrimstr($s) | rtrimstr($s);
def ascii:
  if type == "number" and . >= 0 and . < 128 then [.] | implode
  else error("ascii takes a code point from 0 to 127, not \(tojson)")
  end;

# SQL-style helpers.
def IN(s): . as $x | any(s; . == $x);
def IN(src; s): any(src | IN(s); .);
def INDEX(rows; key): reduce rows as $row ({}; .[$row | key | tostring] = $row);
def INDEX(key): INDEX(.[]; key);
def JOIN($index; key): [.[] | [., $index[key]]];
def JOIN($index; rows; key): rows | [., $index[key]];
def JOIN($index; rows; key; combine): rows | [., $index[key]] | combine;

def leaf_paths: paths(scalars);

# Streaming form: `[path, leaf]` for every scalar or empty container, and `[path]`
# after the last child of a container (path: that child's).
def tostream:
  def events($path):
    if (isarray or isobject) and length > 0 then
      [keys_unsorted[]] as $keys
      | ($keys[] as $k | .[$k] | events($path + [$k])), [$path + [$keys[-1]]]
    else [$path, .]
    end;
  events([]);

# The values whose events `f` yields (the inverse of `tostream`): a top-level value is
# complete at a leaf event with an empty path or at a closing event of path length 1.
# Containers are built by hand: jaq's paths do not create them from null, and an array
# grows only by appending.
def fromstream(f):
  def put($path; $leaf):
    if $path == [] then $leaf
    else $path[0] as $k
      | if ($k | type) == "number" then
          (. // []) as $a
          | ($a[$k] | put($path[1:]; $leaf)) as $x
          | if $k < ($a | length) then $a | .[$k] = $x else $a + [$x] end
        else (. // {}) | .[$k] |= put($path[1:]; $leaf)
        end
    end;
  foreach f as $e ({value: null, done: false};
    if .done then {value: null, done: false} else . end
    | if ($e | length) == 2 then
        .value |= put($e[0]; $e[1]) | .done = (($e[0] | length) == 0)
      else .done = (($e[0] | length) == 1)
      end;
    if .done then .value else empty end);

# Events of `stream` with the first `.` path elements removed; events whose path is
# not longer than that are dropped.
def truncate_stream(stream):
  . as $depth | stream | select((.[0] | length) > $depth) | .[0] |= .[$depth:];

def @csv:
  if type != "array" then error("\(type) (\(tojson)) cannot be csv-formatted, only an array")
  else map(
    if type == "string" then "\"" + (split("\"") | join("\"\"")) + "\""
    elif . == null then ""
    elif type == "number" or type == "boolean" then tojson
    else error("\(type) (\(tojson)) is not valid in a csv row")
    end) | join(",")
  end;

def @tsv:
  if type != "array" then error("\(type) (\(tojson)) cannot be tsv-formatted, only an array")
  else map(
    if type == "string" then
      split("\\") | join("\\\\") | split("\t") | join("\\t")
      | split("\n") | join("\\n") | split("\r") | join("\\r")
    elif . == null then ""
    elif type == "number" or type == "boolean" then tojson
    else error("\(type) (\(tojson)) is not valid in a tsv row")
    end) | join("\t")
  end;
