# Sourced by the benches' scripts. browser_login BASE JAR LOGIN PASSWORD: logs in as a browser does
# (the pre-session cookie and its CSRF token, the password, then the privacy notice the first time);
# the session is left in the cookie jar JAR.
browser_login() {
  local base=$1 jar=$2 login=$3 password=$4 token
  csrf() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//'; }
  token=$(curl -s -c "$jar" -b "$jar" "$base/dang-nhap" | csrf)
  curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "login=$login" --data-urlencode "password=$password" \
    --data-urlencode "csrf=$token" "$base/dang-nhap"
  token=$(curl -s -c "$jar" -b "$jar" "$base/dong-y" | csrf)
  if [ -n "$token" ]; then curl -s -o /dev/null -c "$jar" -b "$jar" --data "dong_y=co&csrf=$token" "$base/dong-y"; fi
}
