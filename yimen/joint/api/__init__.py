"""The REST API of joint handling (主题式联审联办), under /api/v1/themes/."""
