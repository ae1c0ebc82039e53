module example.com/wxlogin-verify-go

go 1.22

require (
	github.com/MicahParks/keyfunc/v3 v3.3.3
	github.com/golang-jwt/jwt/v5 v5.3.1
)
