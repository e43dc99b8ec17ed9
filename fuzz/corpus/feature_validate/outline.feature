Feature: O
  Scenario Outline: rows
    When the wearer presses the button for <ms> ms
    Then within 3 s exactly <n> SMS are sent

    Examples:
      | ms | n |
      | 20 | 0 |
